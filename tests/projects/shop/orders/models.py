from django.db import models


class Order(models.Model):
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="orders")
    quantity = models.PositiveIntegerField(default=1)
    note = models.CharField(max_length=200, blank=True, default="")
