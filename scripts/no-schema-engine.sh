#!/bin/sh
# Prisma's CLI wants a native schema engine binary, which cannot be downloaded here.
# Generation never needs it; migrations run through the WASM schema engine instead.
echo "migrations run through the WASM schema engine: use 'npm run db:migrate' / 'npm run db:diff'" >&2
exit 1
