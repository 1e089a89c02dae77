"""Answer: composers (extractive, LLM), quotes, abstention and support checking."""
