from django.db.models import Count
from django.shortcuts import get_object_or_404, render

from .models import Board, Topic


def home(request):
    return render(request, "home.html", {"boards": Board.objects.order_by("name")})


def board_topics(request, pk):
    board = get_object_or_404(Board, pk=pk)
    topics = board.topics.order_by("-last_updated").annotate(replies=Count("posts"))
    return render(request, "topics.html", {"board": board, "topics": topics})


def topic_posts(request, pk, topic_pk):
    topic = get_object_or_404(Topic, board__pk=pk, pk=topic_pk)
    # The views counter arrives with migration 0003 in the lesson; until the
    # field exists there is nothing to count, and the page still works.
    if hasattr(topic, "views"):
        topic.views += 1
        topic.save()
    return render(request, "topic_posts.html", {"topic": topic})
