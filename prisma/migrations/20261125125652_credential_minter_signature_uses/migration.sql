-- DropForeignKey
ALTER TABLE "ApiKey" DROP CONSTRAINT "ApiKey_ownerId_fkey";

-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "createdByKeyId" UUID;

-- AlterTable
ALTER TABLE "KeyPair" ADD COLUMN     "createdByKeyId" UUID;

-- AlterTable
ALTER TABLE "RefreshToken" ADD COLUMN     "successorCiphertext" TEXT,
ADD COLUMN     "successorKeyVersion" INTEGER;

-- CreateTable
CREATE TABLE "SignatureUse" (
    "keyId" UUID NOT NULL,
    "signature" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "SignatureUse_pkey" PRIMARY KEY ("keyId","signature")
);

-- CreateIndex
CREATE INDEX "SignatureUse_expiresAt_idx" ON "SignatureUse"("expiresAt");

-- CreateIndex
CREATE INDEX "ApiKey_createdByKeyId_idx" ON "ApiKey"("createdByKeyId");

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_createdByKeyId_fkey" FOREIGN KEY ("createdByKeyId") REFERENCES "ApiKey"("id") ON DELETE SET NULL ON UPDATE CASCADE;
