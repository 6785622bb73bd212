"""HTTP plumbing shared by every area: content negotiation, responses, error handling."""
