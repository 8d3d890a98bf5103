-- Room on every ApiKey page for updated rows: a used key's "lastUsedAt" is rewritten once a minute,
-- and with the page full every such update was a new row version in all ten of the table's indexes.
-- With room on its page it is a HOT update, which touches none of them ("lastUsedAt" is not
-- indexed). Prisma's schema cannot state a fillfactor, so it lives only here. Pages written before
-- this migration get the room as they are rewritten (VACUUM FULL, or as rows move).
ALTER TABLE "ApiKey" SET (fillfactor = 70);
