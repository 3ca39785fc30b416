"""One testing library for tests/, contract_tests/ and bench/: official-SDK clients and signers
(`sdk`), a real emulator process (`process`), shared end-to-end flows (`flows`), an independent CSV
reader (`csvread`). Raw requests are signed with the official SDK's own functions, never with the
emulator's signer, so a bug in our signing code cannot hide itself."""
