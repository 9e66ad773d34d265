import SimpoolExplorerCLI
import Tensors

AllocatorTuning.keepLargeBlocks()
PeakMemoryReport.installIfRequested()
// The terminal driver lives here, the only module that talks to the terminal.
BrowseCommand.driver = TerminalDriver.run
SimpoolExplorer.runFromCommandLine()
