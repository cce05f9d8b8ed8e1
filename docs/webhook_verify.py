import hashlib, hmac, time

def verify(secret: bytes, signature_header: str, body: bytes, tolerance_s: int = 300) -> bool:
    """True when PixelFlow-Signature (t=…,v1=…) is the tenant's HMAC-SHA256 of "<t>.<body>" and t is recent."""
    fields = dict(part.split("=", 1) for part in signature_header.split(",") if "=" in part)
    t = fields.get("t", "")
    expected = hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()
    recent = t.isdigit() and abs(time.time() - int(t)) <= tolerance_s
    return recent and hmac.compare_digest(expected, fields.get("v1", ""))
