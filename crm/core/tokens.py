"""The secrets in links and API tokens: what the database keeps of one is its SHA-256.

A token is at least 192 random bits (`secrets.token_urlsafe`), so a plain hash is enough:
no salt, and a lookup is one indexed equality. Signing, quote, ticket-status and rating
links, campaign unsubscribe links and personal access tokens all store it this way."""

import hashlib


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
