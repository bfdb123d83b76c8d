"""The local provider simulator: OpenAI, Anthropic and Gemini wire protocols."""
