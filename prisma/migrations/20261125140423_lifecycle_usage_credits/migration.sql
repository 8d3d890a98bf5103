-- CreateEnum
CREATE TYPE "CreditRefill" AS ENUM ('DAY', 'MONTH');

-- CreateEnum
CREATE TYPE "UsageGranularity" AS ENUM ('MINUTE', 'HOUR', 'DAY');

-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "creditsRefillAmount" INTEGER,
ADD COLUMN     "creditsRefillInterval" "CreditRefill",
ADD COLUMN     "creditsRefilledAt" TIMESTAMPTZ(3),
ADD COLUMN     "creditsRemaining" INTEGER,
ADD COLUMN     "expiryReminderSentAt" TIMESTAMPTZ(3),
ADD COLUMN     "ipAllowlist" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "metadata" JSONB;

-- AlterTable
ALTER TABLE "KeyPair" ADD COLUMN     "expiryReminderSentAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN     "deletedAt" TIMESTAMPTZ(3),
ADD COLUMN     "suspendedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "removedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "KeyUsage" (
    "keyId" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "granularity" "UsageGranularity" NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "code" TEXT NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "KeyUsage_pkey" PRIMARY KEY ("keyId","granularity","bucket","code")
);

-- CreateIndex
CREATE INDEX "KeyUsage_tenantId_granularity_bucket_idx" ON "KeyUsage"("tenantId", "granularity", "bucket");
