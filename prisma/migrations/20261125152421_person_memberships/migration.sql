-- One person (an email identity) with a membership (User row) per tenant.
-- Existing users become one person each, joined since they were created.

-- CreateEnum
CREATE TYPE "MagicLinkPurpose" AS ENUM ('SIGN_IN', 'INVITATION');

-- DropIndex
DROP INDEX "User_email_key";

-- AlterTable
ALTER TABLE "MagicLink" ADD COLUMN     "purpose" "MagicLinkPurpose" NOT NULL DEFAULT 'SIGN_IN';

-- CreateTable
CREATE TABLE "Person" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Person_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Person_email_key" ON "Person"("email");

-- AlterTable: personId is filled from the existing addresses before it becomes required.
ALTER TABLE "User" ADD COLUMN     "invitedAt" TIMESTAMPTZ(3),
ADD COLUMN     "invitedById" UUID,
ADD COLUMN     "joinedAt" TIMESTAMPTZ(3),
ADD COLUMN     "personId" UUID;

INSERT INTO "Person" ("id", "email", "createdAt")
SELECT gen_random_uuid(), "email", MIN("createdAt") FROM "User" GROUP BY "email";

UPDATE "User" u SET "personId" = p."id", "joinedAt" = u."createdAt"
FROM "Person" p WHERE p."email" = u."email";

ALTER TABLE "User" ALTER COLUMN "personId" SET NOT NULL;

-- CreateIndex
CREATE INDEX "User_personId_idx" ON "User"("personId");

-- CreateIndex
CREATE INDEX "User_email_idx" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "User_tenantId_personId_key" ON "User"("tenantId", "personId");

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_personId_fkey" FOREIGN KEY ("personId") REFERENCES "Person"("id") ON DELETE CASCADE ON UPDATE CASCADE;
