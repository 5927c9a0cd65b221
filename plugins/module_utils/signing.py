# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZEGO's request signature, and the scrubbing of everything secret from a text: the ServerSecret, every
signature made, signed URLs, and the passwords of a shared store. Every message a module shows goes through
``Signer.scrub`` (or ``mask`` before there is a signer)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import random
import re
import threading

SIGNATURE_VERSION = '2.0'
MASK = '********'
# signatures remembered for scrubbing; beyond this the memory starts afresh (a batch makes one per attempt)
MAX_SIGNATURES = 100000

_SIGNATURE_RE = re.compile(r'(?i)(signature=)[^&\s\'"]*')
_HEX32_RE = re.compile(r'(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])')
_URL_RE = re.compile(r'(?i)\b(?:https?://|/\?)\S*')


def sign(app_id, nonce, secret, timestamp):
    """ZEGO signature 2.0: lowercase hex md5 of AppId + SignatureNonce + ServerSecret + Timestamp."""
    data = '%s%s%s%s' % (app_id, nonce, secret, timestamp)
    return hashlib.md5(data.encode('utf-8')).hexdigest()  # nosec - MD5 is what ZEGO specifies


def new_nonce():
    """16 hex characters from 8 random bytes, as in all of ZEGO's samples."""
    return '%016x' % random.SystemRandom().getrandbits(64)


def mask(text, secrets):
    """``text`` with every one of ``secrets`` replaced by MASK."""
    if text is None:
        return text
    text = '%s' % (text,)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


class Signer(object):
    """Signs the requests of one AppID and remembers the signatures it made, to scrub them."""

    def __init__(self, app_id, secret, clock):
        self.app_id = app_id
        self._secret = secret
        self.clock = clock
        self._signatures = set()
        self._lock = threading.Lock()

    def signed(self, action):
        """The common parameters of a request of ``action``, signed now: (name, value) pairs."""
        nonce = new_nonce()
        timestamp = int(self.clock())
        signature = sign(self.app_id, nonce, self._secret, timestamp)
        with self._lock:
            if len(self._signatures) > MAX_SIGNATURES:
                self._signatures.clear()
            self._signatures.add(signature)
        return [('Action', action), ('AppId', str(self.app_id)), ('SignatureNonce', nonce),
                ('Timestamp', str(timestamp)), ('Signature', signature), ('SignatureVersion', SIGNATURE_VERSION)]

    def scrub(self, text, secrets=()):
        """Remove the secret, ``secrets``, every signature this signer made, and URLs from a text."""
        if text is None:
            return text
        text = mask(text, [self._secret] + list(secrets))
        # signatures are 32 lowercase hex characters: look up each such token instead of searching the
        # text for every signature made so far (a large batch makes thousands)
        text = _HEX32_RE.sub(self._mask_signature, text)
        text = _SIGNATURE_RE.sub(r'\1' + MASK, text)
        return _URL_RE.sub('<url>', text)

    def _mask_signature(self, match):
        with self._lock:
            known = match.group(0) in self._signatures
        return MASK if known else match.group(0)
