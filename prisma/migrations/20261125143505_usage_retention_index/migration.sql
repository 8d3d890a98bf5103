-- CreateIndex
CREATE INDEX "KeyUsage_granularity_bucket_idx" ON "KeyUsage"("granularity", "bucket");
