"""The pluggable signing service: backends that name a key, give its public key and sign bytes.

Only this package touches keys. Callers use `signing_backend()` to sign and the
module-level `verify()` (which needs only the stored public key PEM) to check.
"""
