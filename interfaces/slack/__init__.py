"""The desk's Slack app."""

from interfaces.slack.app import SlackDesk

__all__ = ["SlackDesk"]
