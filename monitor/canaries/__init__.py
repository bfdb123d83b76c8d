"""Canaries: prompts with checkable answers, fixed or generated fresh for every probe."""
