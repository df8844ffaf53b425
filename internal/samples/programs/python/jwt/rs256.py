"""RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signatures for the JWT sample, standard library only.

Python's standard library has no RSA, so this file carries a minimal one. It is meant for this local try-out
sample only: it is not constant-time and not hardened against side channels, and a real service should use a
maintained library. When the `cryptography` package happens to be installed it is used instead.

  sign(private_key_pem, message_bytes) -> signature bytes
"""

import base64
import binascii
import hashlib

try:  # a maintained implementation when available
    from cryptography.hazmat.primitives import hashes as _hashes
    from cryptography.hazmat.primitives import serialization as _serialization
    from cryptography.hazmat.primitives.asymmetric import padding as _padding
    from cryptography.hazmat.primitives.asymmetric import rsa as _rsa
except ImportError:  # not installed: the built-in code below is used
    _serialization = None


class InvalidKeyError(ValueError):
    """The private key cannot be used (not PEM, not RSA, malformed DER)."""


# DER prefix of DigestInfo { AlgorithmIdentifier sha256 NULL, OCTET STRING (32 bytes) } (RFC 8017 section 9.2 note 1)
SHA256_DIGEST_INFO = binascii.unhexlify("3031300d060960864801650304020105000420")
RSA_ENCRYPTION_OID = binascii.unhexlify("2a864886f70d010101")  # 1.2.840.113549.1.1.1


def _read_tlv(data, pos, want_tag):
    """Reads one DER element at pos; returns (content, position after it)."""
    if pos + 2 > len(data) or data[pos] != want_tag:
        raise InvalidKeyError("malformed key: expected DER tag 0x%02x at offset %d" % (want_tag, pos))
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise InvalidKeyError("malformed key: bad DER length at offset %d" % pos)
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise InvalidKeyError("malformed key: DER element runs past the end")
    return data[pos:pos + length], pos + length


def _integers(seq, count):
    values, pos = [], 0
    for _ in range(count):
        content, pos = _read_tlv(seq, pos, 0x02)
        values.append(int.from_bytes(content, "big", signed=False))
    return values


def _parse_rsa_private_key(der):
    """RSAPrivateKey (RFC 8017 appendix A.1.2): version, n, e, d, p, q, dP, dQ, qInv."""
    seq, _ = _read_tlv(der, 0, 0x30)
    version, n, e, d, p, q, dp, dq, qinv = _integers(seq, 9)
    if version != 0:
        raise InvalidKeyError("unsupported RSA key version %d (multi-prime keys are not supported)" % version)
    return n, e, d, p, q, dp, dq, qinv


def _parse_pkcs8(der):
    """PrivateKeyInfo (RFC 5208): version, AlgorithmIdentifier (rsaEncryption), OCTET STRING RSAPrivateKey."""
    seq, _ = _read_tlv(der, 0, 0x30)
    _, pos = _read_tlv(seq, 0, 0x02)
    algorithm, pos = _read_tlv(seq, pos, 0x30)
    oid, _ = _read_tlv(algorithm, 0, 0x06)
    if oid != RSA_ENCRYPTION_OID:
        raise InvalidKeyError("the private key is not an RSA key (RS256 needs RSA)")
    inner, _ = _read_tlv(seq, pos, 0x04)
    return _parse_rsa_private_key(inner)


def _pem_body(pem, label):
    begin, end = "-----BEGIN %s-----" % label, "-----END %s-----" % label
    start = pem.find(begin)
    if start < 0:
        return None
    stop = pem.find(end, start)
    if stop < 0:
        raise InvalidKeyError("malformed key: %s without %s" % (begin, end))
    try:
        return base64.b64decode("".join(pem[start + len(begin):stop].split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKeyError("malformed key: the PEM body is not base64")


def load_private_key(pem):
    """PKCS#8 ("BEGIN PRIVATE KEY", what cozeauth and Coze hand out) or PKCS#1 ("BEGIN RSA PRIVATE KEY")."""
    der = _pem_body(pem, "PRIVATE KEY")
    if der is not None:
        return _parse_pkcs8(der)
    der = _pem_body(pem, "RSA PRIVATE KEY")
    if der is not None:
        return _parse_rsa_private_key(der)
    raise InvalidKeyError("private_key is not a PEM private key (-----BEGIN PRIVATE KEY-----)")


def builtin_sign(key, message):
    """RSASSA-PKCS1-V1_5-SIGN (RFC 8017 section 8.2.1) with SHA-256, using the CRT for the private-key step."""
    n, e, d, p, q, dp, dq, qinv = key
    k = (n.bit_length() + 7) // 8
    t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()  # EMSA-PKCS1-v1_5 (section 9.2)
    if k < len(t) + 11:
        raise InvalidKeyError("the RSA key is too short")
    em = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    m = int.from_bytes(em, "big")  # OS2IP
    # RSASP1 (section 5.2.1) with the Chinese remainder theorem: s = m^d mod n.
    s1 = pow(m, dp, p)
    s2 = pow(m, dq, q)
    h = (qinv * (s1 - s2)) % p
    s = s2 + q * h
    if pow(s, e, n) != m:  # a wrong key or a computation fault must not leak a bad signature
        raise InvalidKeyError("RSA signature self-check failed: the private key is inconsistent")
    return s.to_bytes(k, "big")  # I2OSP


def sign(private_key_pem, message):
    """Signs message (bytes) with RS256 and returns the signature bytes."""
    if _serialization is not None:
        try:
            key = _serialization.load_pem_private_key(private_key_pem.encode("utf-8"), password=None)
            if isinstance(key, _rsa.RSAPrivateKey):
                return key.sign(message, _padding.PKCS1v15(), _hashes.SHA256())
        except Exception:  # an old or unusual cryptography, or a bad key: the code below decides and explains
            pass
    return builtin_sign(load_private_key(private_key_pem), message)
