//! SUAVE wire types: confidential compute records, 0x43 requests and 0x50 transactions.
