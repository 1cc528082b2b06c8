package console

// msgPublishBad answers a 公开 text the ledger refuses as invalid.
const msgPublishBad = "公开的文字不能超过500字"
