"""An offline stand-in for Apple's and Google's subscription servers (local runs and tests).

It imports none of Masthead's apps: it stands where the App Store and Google Play stand,
across HTTP. See ``README.md``."""
