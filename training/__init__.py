"""Training the claim judge (not part of the installed package; needs ../shared/seeds)."""
