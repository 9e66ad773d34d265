import SimpoolExplorerCLI

SimpoolExplorer.runFromCommandLine()
