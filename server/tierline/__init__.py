"""tierline: AI inline completions routed to the cheapest model that can do them well."""

__version__ = "0.1.0"
