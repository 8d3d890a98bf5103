-- CreateTable
CREATE TABLE "UsageRollup" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "hoursTo" TIMESTAMPTZ(3) NOT NULL,
    "daysTo" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "UsageRollup_pkey" PRIMARY KEY ("id")
);

-- Until now every flush wrote minute, hour and day rows together. Those already written stay as
-- they are: with usage rows in the table the marks start at the next hour and the next day (UTC),
-- so flushes keep writing hour rows inline until the hour is over and day rows until the day is
-- over, and the first roll-ups only ever sum minutes that have no hour row yet. On an empty table
-- (a new install) the marks start at the current hour and day. (Instances of the previous version
-- still running after the marks would write hour and day rows that the roll-up then adds again:
-- upgrade all instances within the hour.)
INSERT INTO "UsageRollup" ("id", "hoursTo", "daysTo")
SELECT 1,
       (date_trunc('hour', now() AT TIME ZONE 'UTC') + CASE WHEN used THEN interval '1 hour' ELSE interval '0' END) AT TIME ZONE 'UTC',
       (date_trunc('day', now() AT TIME ZONE 'UTC') + CASE WHEN used THEN interval '1 day' ELSE interval '0' END) AT TIME ZONE 'UTC'
FROM (SELECT EXISTS (SELECT 1 FROM "KeyUsage") AS used) AS u;
