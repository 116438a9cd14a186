"""``python -m mmconform.certify verify BUNDLE``: check a certification bundle."""
