"""LLM access for the desk: any OpenAI-compatible endpoint, optionally through Helicone."""

from core.llm.budget import BudgetExceededError, TokenBudget
from core.llm.client import chat_model, helicone_headers

__all__ = ["BudgetExceededError", "TokenBudget", "chat_model", "helicone_headers"]
