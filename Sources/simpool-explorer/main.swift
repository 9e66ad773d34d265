import Foundation
import SimpoolExplorerCLI
import Tensors

AllocatorTuning.keepLargeBlocks()
PeakMemoryReport.installIfRequested()
CrashReport.install()
// The crash report's own test: a fault as a trap would raise it.
if ProcessInfo.processInfo.environment["SIMPOOL_EXPLORER_FAULT_FOR_TEST"] == "1" { raise(SIGSEGV) }
// The terminal driver lives here, the only module that talks to the terminal.
BrowseCommand.driver = TerminalDriver.run
SimpoolExplorer.runFromCommandLine()
