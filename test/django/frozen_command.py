#!/usr/bin/env python3
"""Runs a management command with the clock frozen at a given instant, so Django's `now` and the preset's
reference time are the same instant and rows exactly at a boundary can be compared.

Usage: frozen_command.py 2026-06-01T12:00:00.000000+00:00 cleartokens
"""
import os
import sys
from datetime import datetime, timezone
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conformance.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

frozen = datetime.fromisoformat(sys.argv[1])
assert frozen.tzinfo is not None, "the frozen instant needs a time zone"


class FrozenDatetime(datetime):
    """datetime with its clock stopped at `frozen`: utcnow() is its naive UTC wall clock, now() its local time (the
    process's TZ, which Django sets to TIME_ZONE), so Django's and simplejwt's own code (USE_TZ on or off) runs as is."""

    @classmethod
    def utcnow(cls):
        return frozen.astimezone(timezone.utc).replace(tzinfo=None)

    @classmethod
    def now(cls, tz=None):
        return frozen.astimezone(tz) if tz is not None else frozen.astimezone().replace(tzinfo=None)


# clear_expired and clearsessions call django.utils.timezone.now(); flushexpiredtokens calls simplejwt's aware_utcnow():
# both read the clock through the `datetime` of their module.
with mock.patch("django.utils.timezone.datetime", FrozenDatetime), mock.patch("rest_framework_simplejwt.utils.datetime", FrozenDatetime):
    call_command(sys.argv[2], *sys.argv[3:])
