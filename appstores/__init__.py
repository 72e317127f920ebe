"""Apple App Store and Google Play subscriptions as entitlement sources, beside billing."""
