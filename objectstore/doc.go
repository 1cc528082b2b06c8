// Package objectstore holds the implementations of core.ObjectStore, where
// the photos and voice notes residents send are kept, out of the ledger's
// store: files (the data folder, the default) and s3 (any S3-compatible
// service: MinIO, SeaweedFS, Tencent COS, Aliyun OSS). objecttest is the
// behaviour suite both pass.
package objectstore
