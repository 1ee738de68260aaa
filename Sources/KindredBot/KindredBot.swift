/// KindredBot holds the Telegram Bot API client and the bot's conversation flows (DESIGN.md, "Telegram").
/// The client and flows arrive with the Telegram bot issue.
public enum KindredBot {}
