"""Answer generation: llama.cpp loading and chat, prompts, context building, answers."""
