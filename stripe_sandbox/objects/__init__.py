"""Builders of Stripe objects with exactly the keys Stripe returns for each type."""
