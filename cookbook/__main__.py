from cookbook.cli import main

main()
