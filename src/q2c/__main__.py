from q2c.cli import main

main()
