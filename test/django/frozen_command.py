#!/usr/bin/env python3
"""Runs a management command with the clock frozen at a given instant, so Django's `now` and the preset's
reference time are the same instant and rows exactly at a boundary can be compared.

Usage: frozen_command.py 2026-06-01T12:00:00.000000+00:00 cleartokens
"""
import os
import sys
from datetime import datetime
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conformance.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

frozen = datetime.fromisoformat(sys.argv[1])
assert frozen.tzinfo is not None, "the frozen instant needs a time zone"
# clear_expired calls django.utils.timezone.now(); flushexpiredtokens calls the aware_utcnow it imported.
with mock.patch("django.utils.timezone.now", return_value=frozen), mock.patch(
    "rest_framework_simplejwt.token_blacklist.management.commands.flushexpiredtokens.aware_utcnow", return_value=frozen
):
    call_command(sys.argv[2], *sys.argv[3:])
