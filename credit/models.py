"""Credit (资信管理): applications, investigations, ratings and limits arrive with their issue."""
