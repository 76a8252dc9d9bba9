// The local L1 of kettle's builder tests (started by tests/src/l1.rs as
// `npx hardhat node --hostname 127.0.0.1 --port <free port>`).
//
// Chain id 1337 (the builder signs bids with the 1337/17000 fork version), Cancun rules,
// automining with a FIFO mempool so a test can switch automining off, queue transactions in
// order and mine them into one block. The accounts are hardhat's defaults (the well-known
// "test test ... junk" mnemonic, 10000 ETH each); never use them for value.

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  networks: {
    hardhat: {
      chainId: 1337,
      hardfork: "cancun",
      mining: {
        auto: true,
        interval: 0,
        mempool: { order: "fifo" },
      },
      accounts: {
        mnemonic: "test test test test test test test test test test test junk",
        count: 10,
      },
    },
  },
};
