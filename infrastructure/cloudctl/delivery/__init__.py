"""Delivery: the rendered-manifest diff, the image-tag writer, promotion and the MR-note publisher.

Everything the GitLab pipeline does beyond calling make targets lives here, so it runs and is tested
locally exactly as CI runs it.
"""
