#!/usr/bin/env bash
# Install the Debian programs the tests and the demo drive for real, when missing:
# LibreOffice Calc and Writer (focal points open workbooks in it; drafts become PDF), Chromium (browser tests and report
# screenshots), dovecot (a real IMAP server for the email-reply channel), pdftoppm, and
# docker-compose (validates docker/compose.yaml; no engine needed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui)
# Writer turns the draft report (docx) into PDF for its page images.
dpkg -s libreoffice-writer-nogui >/dev/null 2>&1 || dpkg -s libreoffice-writer >/dev/null 2>&1 \
  || missing+=(libreoffice-writer-nogui)
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
{ command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; } && [ -e /usr/lib/dovecot/imap ] \
  || missing+=(dovecot-core dovecot-imapd)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
# Hyphenation patterns: the PDF tests make LibreOffice hyphenate French and English text.
dpkg -s hyphen-fr >/dev/null 2>&1 || missing+=(hyphen-fr)
dpkg -s hyphen-en-us >/dev/null 2>&1 || missing+=(hyphen-en-us)
# DejaVu Sans carries the Arabic glyphs of the charts and reports.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# `docker-compose config` checks docker/compose.yaml without a Docker engine (test_docker_compose).
{ docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; } \
  || missing+=(docker-compose)

if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
  # The tests start their own private dovecot; the system one must not hold the ports.
  command -v service >/dev/null 2>&1 && as_root service dovecot stop >/dev/null 2>&1 || true
fi
echo "system programs ready: soffice $(command -v soffice), /usr/bin/chromium, dovecot, pdftoppm, docker-compose"
