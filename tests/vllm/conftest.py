"""Real ``vllm serve`` tests. Each test module starts its own server configuration (module-scoped
fixture), so at most one server runs at a time; ``VllmServer`` stops it even when tests fail."""
