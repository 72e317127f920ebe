"""An offline stand-in for the part of Stripe's HTTP API a subscription business uses."""
