"""One router per concern: predict, articles, status (health, model, metrics), admin."""
