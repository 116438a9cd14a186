"""mmconform: conformance suite for the Mattermost REST API v4 system endpoints.

The package holds the pieces that run inside pytest (the plugin and its harness), the contract
loader (the only reader of ``spec/``) and an in-repo stub server that implements the API.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
