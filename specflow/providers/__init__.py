"""Model providers. Each SDK is imported only inside its own module, and only when used."""
