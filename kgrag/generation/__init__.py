"""Answer generation: the chat model (llama.cpp here or a server), prompts, context
building, answers."""
