package storetest

// directoryTests are the conformance tests of store.DirectoryTx.
var directoryTests = []namedTest{}
