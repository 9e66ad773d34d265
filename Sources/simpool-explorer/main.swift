import SimpoolExplorerCLI
SimpoolExplorer.main()
