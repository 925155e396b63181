# The Airflow image of the deployment: the pinned Airflow release plus this project's pinned
# requirements, its package, its DAGs and its plugins, so that the image alone runs a worker on
# another machine or a Helm deployment. docker-compose.yaml also mounts dags/, include/ and
# plugins/ over them so a code change needs no rebuild (PYTHONPATH puts the mounted include/ first).
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root requirements.txt /opt/airflow/project/requirements.txt
RUN pip install --no-cache-dir -r /opt/airflow/project/requirements.txt

COPY --chown=airflow:root pyproject.toml README.md /opt/airflow/project/
COPY --chown=airflow:root include /opt/airflow/project/include
RUN pip install --no-cache-dir --no-deps /opt/airflow/project

ENV PYTHONPATH=/opt/airflow/include
COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root plugins /opt/airflow/plugins
