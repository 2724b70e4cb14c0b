from django.contrib import admin

from .models import Board, Post, Topic

admin.site.register([Board, Topic, Post])
