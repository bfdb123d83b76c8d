"""brownout: a monitor for LLM providers."""
