#!/bin/sh
# Stands in for lnst-agent (LNST_AGENT=...): answers with garbage frames.
printf '\000\000\000\007garbage' >&3
sleep 30
