"""Text in, structures out: parsing, language, sentences, chunkers, entities, keyphrases
and triples. Importing the package is cheap; models load on first use."""
