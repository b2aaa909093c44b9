#!/bin/sh
# Stands in for lnst-agent: announces a frame far above the size limit.
printf '\177\377\377\377{"id":1' >&3
sleep 30
